"""A TCP proxy that a test can cut and restore: a database outage between the tracker
and MariaDB, without touching the server that every other test uses."""

from __future__ import annotations

import socket
import threading


class TcpProxy:
    """Listens on 127.0.0.1 (a port of its own) and forwards each connection to `target`.

    `cut()` closes every connection and stops listening, so that a client in mid-query
    loses its connection (MariaDB error 2013) and a new one is refused (2003);
    `restore()` listens again on the same port. Threads: one accepting, two per
    connection pumping bytes each way.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener = self._listen(0)
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._acceptor = self._accept_in_background()

    def _listen(self, port: int) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        listener.settimeout(0.05)  # to notice a cut between accepts
        return listener

    def _accept_in_background(self) -> threading.Thread:
        self._stop = threading.Event()
        thread = threading.Thread(
            target=self._accept, args=(self._listener, self._stop), daemon=True
        )
        thread.start()
        return thread

    def _accept(self, listener: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                if stop.is_set():
                    client.close()
                    upstream.close()
                    return
                self._open |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._close(source, sink)

    def _close(self, *sockets: socket.socket) -> None:
        for sock in sockets:
            with self._lock:
                self._open.discard(sock)
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the pump blocked in recv
            except OSError:
                pass
            sock.close()

    def cut(self) -> None:
        self._stop.set()
        self._acceptor.join()
        self._listener.close()
        with self._lock:
            sockets = list(self._open)
        self._close(*sockets)

    def restore(self) -> None:
        self._listener = self._listen(self.port)
        self._acceptor = self._accept_in_background()

    def close(self) -> None:
        if not self._stop.is_set():
            self.cut()
