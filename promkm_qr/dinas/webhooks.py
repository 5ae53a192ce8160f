"""Webhook subscriptions (admin only): subscribe (the secret is shown once), the delivery
log with "send again", and resuming a subscription paused after a day of failures."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from promkm_qr import audit
from promkm_qr.api import webhook_send, webhooks
from promkm_qr.auth.access import staff_roles
from promkm_qr.dinas import bp
from promkm_qr.extensions import db
from promkm_qr.forms import Form
from promkm_qr.models import WebhookDelivery, WebhookSubscription


class SubscriptionForm(Form):
    """An URL and the events it receives."""

    url = StringField(_l("URL penerima"), validators=[DataRequired(), Length(max=500)])
    events = SelectMultipleField(
        _l("Peristiwa"),
        choices=[SelectChoice(e, e) for e in webhooks.EVENTS],
        validators=[DataRequired()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


@bp.route("/webhook", methods=["GET", "POST"])
@staff_roles()
def webhook_subscriptions():
    """The subscriptions; a valid submit adds one and shows its secret this once."""
    form, secret = SubscriptionForm(), None
    if form.validate_on_submit():
        try:
            webhook_send.check_url(form.url.data.strip())
        except webhook_send.Refused as exc:
            form.url.errors.append(_("URL ditolak: %(reason)s", reason=str(exc)))
        else:
            _id, secret = webhooks.subscribe(
                form.url.data.strip(), form.events.data, current_user.id
            )
            form = SubscriptionForm(formdata=None)
    subscriptions = db.session.scalars(
        select(WebhookSubscription)
        .where(WebhookSubscription.removed_at.is_(None))
        .order_by(WebhookSubscription.id.desc())
    ).all()
    return render_template(
        "dinas/webhooks.html", form=form, secret=secret, subscriptions=subscriptions
    ), (400 if form.errors else 200)


@bp.route("/webhook/<int:subscription_id>")
@staff_roles()
def webhook_log(subscription_id: int):
    """The latest deliveries of a subscription: state, attempts, last answer or error."""
    subscription = db.session.get(WebhookSubscription, subscription_id) or abort(404)
    deliveries = db.session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(200)
    ).all()
    return render_template(
        "dinas/webhook_log.html", subscription=subscription, deliveries=deliveries
    )


@bp.route("/webhook/pengiriman/<int:delivery_id>/kirim-ulang", methods=["POST"])
@staff_roles()
def webhook_send_again(delivery_id: int):
    """Queue a delivery again, whatever its state."""
    delivery = db.session.get(WebhookDelivery, delivery_id) or abort(404)
    webhooks.send_again(delivery.id, current_user.id)
    flash(_("Pengiriman dijadwalkan ulang."))
    return redirect(url_for("dinas.webhook_log", subscription_id=delivery.subscription_id))


@bp.route("/webhook/<int:subscription_id>/lanjutkan", methods=["POST"])
@staff_roles()
def webhook_resume(subscription_id: int):
    """Resume a paused subscription (its failed deliveries can then be sent again)."""
    subscription = db.session.get(WebhookSubscription, subscription_id) or abort(404)
    subscription.paused_at = subscription.failing_since = None
    audit.record(
        "webhook.resumed", "webhook_subscription", subscription.id, actor_id=current_user.id
    )
    db.session.commit()
    flash(_("Langganan dilanjutkan."))
    return redirect(url_for("dinas.webhook_log", subscription_id=subscription.id))
