"""The HTTP side of the daemon: a Starlette app served by uvicorn inside the daemon's loop."""
