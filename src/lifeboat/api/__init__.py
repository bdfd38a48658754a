"""The HTTP API: thin FastAPI routers over ``lifeboat.services``."""
