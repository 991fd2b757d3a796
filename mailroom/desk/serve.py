"""`mailroom web`: the desk under gunicorn. Each worker process builds its own app
(and database pool) after the fork; the desk keeps no state of its own, so any
number of instances may run against one PostgreSQL behind a proxy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication


class DeskServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, config: Path | None, options: dict[str, Any]) -> None:
        self.config_path = config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from mailroom.config import load_settings
        from mailroom.desk.app import create_app

        return create_app(load_settings(self.config_path))


def serve(config: Path | None, host: str, port: int, workers: int, *, access_log: bool = True) -> None:
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "sync",
        # A page is quick; a letter preview starts LibreOffice the first time.
        "timeout": 120,
        "graceful_timeout": 20,
        "accesslog": "-" if access_log else None,
        # gunicorn's default line plus the time spent on the request (bench/desk_pages.py reads it).
        "access_log_format": '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms',
        "errorlog": "-",
        # Client addresses in the log and the login throttle come from the socket
        # unless web.trusted_proxies says to believe X-Forwarded-For (ProxyFix).
        "forwarded_allow_ips": "127.0.0.1,::1",
        "proc_name": "mailroom-web",
        # gunicorn 27's control socket sits at a fixed ~/.gunicorn/gunicorn.ctl: a second
        # desk on the host would fight over it, and the desk needs none.
        "control_socket_disable": True,
        "limit_request_line": 8190,
        "limit_request_fields": 100,
    }
    DeskServer(config, options).run()
