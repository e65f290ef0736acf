"""The aiohttp server: FakeBotApi binds 127.0.0.1 on a free port and routes requests to the methods."""

import asyncio
import itertools
import json
import re
from collections import deque
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .base import BOT_USERNAME, DEFAULT_TOKEN, GROUP_ANONYMOUS_BOT, ApiError, Call, _bad_request, _error_response
from .calls import CallLog, Predicate
from .faults import GROUP_LIMIT, GROUP_WINDOW_S, Faults, _Fault, _take
from .methods import METHODS, Methods
from .world import _State

# Parameters that are strings even when they look like JSON ("123", "true").
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "inline_query_id",
        "file_id",
        "url",
        "language_code",
        "action",
        "parse_mode",
        "secret_token",
        "title",
        "description",
        "inline_message_id",
        "emoji",
        "business_connection_id",
        "message_effect_id",
        "query",
        "name",
    }
)
_TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]{30,}")


class FakeBotApi(Methods, CallLog, Faults):
    """A Telegram Bot API server on 127.0.0.1 for one test."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        username: str = BOT_USERNAME,
        first_name: str = "Toonzoo Test",
        privacy_mode: bool = False,
        hang_seconds: float = 30.0,
        group_limit: int | None = GROUP_LIMIT,
        group_window_s: float = GROUP_WINDOW_S,
    ):
        self.token = token
        self.group_limit = group_limit
        self.group_window_s = group_window_s
        self._accepted: dict[int, deque[float]] = {}  # group id -> when its counted messages were accepted
        self.privacy_mode = privacy_mode
        self.hang_seconds = hang_seconds
        self.bot = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": first_name,
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": not privacy_mode,
            "supports_inline_queries": True,  # inline mode on (@BotFather's /setinline)
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.webhook_url = ""
        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        self.app.router.add_route("GET", "/file/bot{token}/{file_path:.+}", self._handle_file)
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._state = _State()
        self._migrated: dict[int, int] = {}  # old group id -> its supergroup's id
        self._state.users[GROUP_ANONYMOUS_BOT["id"]] = GROUP_ANONYMOUS_BOT
        self._ids = itertools.count(1)
        self._next_update_id = 1
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._calls: list[Call] = []
        self._consumed: set[int] = set()
        self._examined: set[int] = set()
        self._ignored: list[tuple[str, Predicate | None]] = []
        self._settle = None
        self._faults: dict[str, list[_Fault]] = {}
        self._file_faults: dict[str, _Fault] = {}
        self._changed = asyncio.Event()
        self._closing = False
        self._handlers: dict[str, Callable[[dict], Any]] = {
            name: getattr(self, "_api_" + re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()) for name in METHODS
        }
        self._canonical = {name.lower(): name for name in METHODS}

    async def start(self) -> int:
        """Bind 127.0.0.1 on a free port and serve; return the port."""
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self.port

    async def stop(self) -> None:
        """Wake every waiting request and shut the server down."""
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "FakeBotApi":
        await self.start()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: PTB takes ``{base_url}/bot`` and ``{base_url}/file/bot``."""
        if self.port is None:
            raise RuntimeError("FakeBotApi is not started")
        return f"http://127.0.0.1:{self.port}"

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        method = self._canonical.get(request.match_info["method"].lower())
        name = method or request.match_info["method"]
        try:
            params = await _read_params(request)
        except ApiError as error:
            self._record(Call(name, {}, error.code))
            return _error_response(error)
        if not _TOKEN_SHAPE.fullmatch(token):
            refusal: ApiError | None = ApiError("Not Found", 404)
        elif token != self.token:
            refusal = ApiError("Unauthorized", 401)
        elif method is None:  # Telegram says just "Not Found"; say more to the test author
            refusal = ApiError(f"Not Found: FakeBotApi does not implement {name}", 404)
        else:
            refusal = None
        if refusal is not None:
            self._record(Call(name, params, refusal.code))
            return _error_response(refusal)
        assert method is not None  # refused above otherwise
        fault = _take(self._faults.get(method))
        if fault is not None and fault.status == "slow":
            await self._hold(fault)
            fault = None
        if fault is not None:
            self._record(Call(method, params, fault.status))
            return await self._serve_fault(request, fault)
        try:
            self._check_flood(method, params)
            result = self._handlers[method](params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as error:
            self._record(Call(method, params, error.code))
            return _error_response(error)
        self._count_flood(method, params)
        self._record(Call(method, params, 200, result))
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        if token != self.token:
            return _error_response(ApiError("Unauthorized", 401))
        file_path = request.match_info["file_path"]
        found = next((f for f in self._state.files.values() if f.file_path == file_path), None)
        if found is None:
            self._record(Call("download", {"file_path": file_path}, 404))
            return _error_response(ApiError("Not Found", 404))
        params = {"file_path": file_path, "file_id": found.file_id}
        fault = self._file_faults.get(found.file_id)
        if fault is not None and fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                del self._file_faults[found.file_id]
        if fault is not None:
            self._record(Call("download", params, fault.status))
            if fault.status == "truncate":
                return web.Response(body=found.data[: len(found.data) // 2])
            return await self._serve_fault(request, fault)
        self._record(Call("download", params, 200))
        return web.Response(body=found.data, content_type="application/octet-stream")


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Query and body parameters; form fields are decoded like Telegram does (JSON if it parses)."""
    fields: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad_request("can't parse JSON") from None
            if not isinstance(body, dict):
                raise _bad_request("JSON body must be an object")
            return {**{k: _decode(k, v) for k, v in fields.items()}, **body}
        form = await request.post()
        for key, value in form.items():
            fields[key] = value.file.read() if isinstance(value, web.FileField) else value
    return {key: _decode(key, value) for key, value in fields.items()}


def _decode(name: str, value: Any) -> Any:
    if not isinstance(value, str) or name in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
