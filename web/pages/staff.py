"""The front page, and signing desk staff in and out."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from kiosk import accounts

from .. import db
from ..limits import rate_limit
from ..security import device_actor, start_session
from . import blueprint, committed, local_path
from .forms import EmptyForm, LoginForm
from .wording import role_names

bp = blueprint("staff")


@bp.get("/")
def home():
    return render_template("home.html", kiosk=device_actor(), form=EmptyForm(), roles=role_names())


@bp.route("/login", methods=["GET", "POST"])
@rate_limit("login", key=lambda: request.form.get("name", "").strip().casefold(), methods=("POST",))
@committed
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = accounts.sign_in(db.session(), form.name.data, form.password.data)
        if user is not None:
            start_session(user)
            return redirect(local_path(form.next.data, url_for("staff.home")))
        # One message for a wrong name and a wrong password: the page does not say which names exist.
        form.password.errors = [_("The name or password is not right.")]
    status = 422 if request.method == "POST" else 200
    return render_template("login.html", form=form), status


@bp.post("/logout")
def logout():
    # The CSRF token was checked before the view ran (CSRFProtect), like every POST from a page.
    if current_user.is_authenticated:
        logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("staff.login"))
