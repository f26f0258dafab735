"""`/signin/oidc`: sign in through the identity provider, when one is configured."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from bastion import auth
from bastion.core.errors import NotFoundError
from bastion.web.auth import behind_tls, client_ip
from bastion.web.console.signin import continue_signed_in, safe_next
from bastion.web.deps import SessionDep
from bastion.web.oidc import FLOW_COOKIE, FLOW_LIFETIME, Flow, OidcClient, OidcFailed

router = APIRouter(include_in_schema=False)


def _client(request: Request) -> OidcClient:
    client: OidcClient | None = request.app.state.oidc
    if client is None:
        msg = "sign-in with an identity provider is not configured here"
        raise NotFoundError(msg)
    return client


def _callback_url(request: Request) -> str:
    return str(request.url_for("oidc_callback"))


@router.get("/signin/oidc", name="oidc_start")
def oidc_start(request: Request, next: str = "/overview") -> Response:
    """Send the browser to the identity provider."""
    client = _client(request)
    request.app.state.signin_limiter.hit(f"signin:{client_ip(request)}", "sign-in attempts")
    url, flow = client.start(_callback_url(request), safe_next(next[:2000]))
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        FLOW_COOKIE,
        flow.cookie(),
        max_age=FLOW_LIFETIME,
        httponly=True,
        samesite="lax",  # the provider's redirect back is a top-level navigation
        secure=behind_tls(request),
        path=request.url_for("oidc_callback").path,
    )
    return response


@router.get("/signin/oidc/callback", name="oidc_callback")
def oidc_callback(
    request: Request, session: SessionDep, code: str = "", state: str = "", error: str = ""
) -> Response:
    """Finish the provider's sign-in: check its answer, then start a Bastion session."""
    client = _client(request)
    if error:
        msg = f"the identity provider did not sign you in: {error[:200]}"
        raise OidcFailed(msg)
    flow = Flow.from_cookie(request.cookies.get(FLOW_COOKIE, ""))
    if flow is None or not code or len(code) > 2000 or len(state) > 200:
        msg = "this sign-in expired or did not start here: start again from the sign-in page"
        raise OidcFailed(msg)
    identity = client.finish(flow, code, state, _callback_url(request))
    try:
        started = auth.sign_in_external(
            session,
            identity.username,
            mfa=identity.mfa,
            provider=client.config.issuer,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
        )
    except auth.SignInFailed:
        session.commit()
        raise
    response = continue_signed_in(request, started, flow.next)
    response.delete_cookie(FLOW_COOKIE, path=request.url_for("oidc_callback").path)
    return response
