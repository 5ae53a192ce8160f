"""Forms of the reminder pages (CSRF through the project's base Form)."""

from promkm_qr.forms import Form


class MarkReadForm(Form):
    """Mark every reminder read: only the CSRF token."""


class PreferencesForm(Form):
    """The kinds and channels a person stops: the checkboxes are read from the request."""
