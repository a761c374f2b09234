"""A server that accepts connections and never answers: what a hung Redis or mail server, or a
dead network path, looks like to a client (a refused connection is just a free port)."""

import socket
import threading
from types import TracebackType


class SilentServer:
    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.held.append(connection)  # read nothing, answer nothing

    def __enter__(self) -> "SilentServer":
        self.thread.start()
        return self

    def __exit__(
        self, kind: type | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stopping.set()
        self.thread.join()
        for connection in self.held:
            connection.close()
        self.listener.close()
