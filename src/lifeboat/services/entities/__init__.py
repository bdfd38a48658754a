"""A tenant's configuration: entity CRUD, bulk loads from drafts, script references."""
