"""The web console (SPEC §11): server-rendered pages on the same services as the API.

One core, two faces: every page calls the service functions the JSON routes call, with the
same principal and so the same permission checks. The console never opens a database.

    app.py        mount_console(): the pages, and HTML 404s for unknown pages
    web.py        templates, security headers (CSP), the session cookie, CSRF
    context.py    who is looking: principal, tenant, plan facts for the header, navigation
    pages/        one module per page (login, overview, switchover, ...)
"""
