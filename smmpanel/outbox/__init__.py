"""Messages to people outside the panel: e-mails and operator alerts, sent by the worker."""
