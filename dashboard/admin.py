"""Users page (administrators): list accounts, create one, disable/enable it, set a new
password. The same functions as ``python -m dashboard.users``; every change audited.
Disabling an account ends its handoffs at once (``dashboard/handoffs.py``): the citizens
it was answering get the assistant back."""

from __future__ import annotations

import asyncio

from sanic import Request
from sanic.response import HTTPResponse, redirect

from dashboard.conversations import live
from dashboard.db import ROLES as ALL_ROLES
from dashboard.handoffs import release_disabled
from dashboard.users import UserError, all_users, create_user, set_disabled, set_password
from dashboard.web import PAGE_ROLES, Route, audit, context, form, query, render, require, t

ROLES = PAGE_ROLES["users"]


def _page(
    request: Request, flash: str | None = None, error: bool = False, status: int = 200
) -> HTTPResponse:
    return render(
        request,
        "users.html",
        status=status,
        users=all_users(context(request).db),
        roles=ALL_ROLES,
        flash=flash,
        flash_kind="error" if error else "ok",
    )


async def page(request: Request) -> HTTPResponse:
    require(request, *ROLES)
    audit(request, "users.view")
    done = query(request, "done")
    return _page(request, t(request, "user_changed", username=done) if done else None)


async def create(request: Request) -> HTTPResponse:
    require(request, *ROLES)
    username = form(request, "username").lower()
    departments = (request.form.getlist("departments") if request.form else None) or []
    try:
        await asyncio.to_thread(  # scrypt: off the event loop
            create_user,
            context(request).db,
            username,
            form(request, "name"),
            form(request, "role"),
            form(request, "password"),
            [d for d in departments if d],
            form(request, "centre") or None,
        )
    except UserError as exc:
        return _page(request, t(request, exc.code), error=True, status=400)
    audit(
        request,
        "user.create",
        username,
        {
            "role": form(request, "role"),
            "departments": departments,
            "centre": form(request, "centre"),
        },
    )
    return redirect(f"/users?done={username}")


async def change(request: Request, username: str) -> HTTPResponse:
    user = require(request, *ROLES)
    what = form(request, "change")
    db = context(request).db
    try:
        if what in ("disable", "enable"):
            if username == user.username:
                raise UserError("not_allowed", "Administrators cannot disable themselves.")
            set_disabled(db, username, what == "disable")
            if what == "disable":  # nobody may be left waiting for this officer
                released = await release_disabled(db, live(request).channel, only=username)
                audit(request, "handoff.release_disabled", username, {"released": len(released)})
        elif what == "password":
            await asyncio.to_thread(set_password, db, username, form(request, "password"))
        else:
            raise UserError("not_allowed", "Unknown change.")
    except UserError as exc:
        return _page(request, t(request, exc.code), error=True, status=400)
    audit(request, f"user.{what}", username)
    return redirect(f"/users?done={username}")


ROUTES: list[Route] = [
    ("GET", "/users", page),
    ("POST", "/users", create),
    ("POST", "/users/<username>", change),
]
