"""The web server: the JSON API (OpenAPI) and the server-rendered console."""

from bastion.web.app import create_app

__all__ = ["create_app"]
