from lifeboat.migrations.env_common import run
from lifeboat.store.tables import region_metadata

run(region_metadata)
