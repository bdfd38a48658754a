from lifeboat.migrations.env_common import run
from lifeboat.store.tables import directory_metadata

run(directory_metadata)
