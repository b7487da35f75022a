"""The rules playground at `/playground`: edit a ruleset and a ticket, see the answers live.

Static HTML/CSS/JS in this package (no CDN, no build step, like the board); the page calls
`checkRules` and `explain` on `/graphql`. The app mounts `routes` (a list of Starlette routes).
"""

from starlette.routing import BaseRoute

from slarules.playground import pages

routes: list[BaseRoute] = pages.routes()

__all__ = ["routes"]
