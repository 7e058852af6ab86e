"""One module per area; each exposes ``router`` (a FastAPI ``APIRouter``) and is included by ``create_app``."""
