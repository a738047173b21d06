"""The daemon as a service: capture thread, MQTT control, metrics, sd_notify, credentials, reload.

:func:`~visionedge.service.daemon.run_daemon` is what ``visionedge run`` calls; the other
modules are its parts, each usable alone (the web page reads credentials, ``config check``
runs :mod:`~visionedge.service.preflight`).
"""
