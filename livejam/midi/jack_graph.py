"""Who is connected to whom on a JACK server, for the watchdog: through libjack
with ctypes, so the watchdog needs neither python-rtmidi's JACK client thread
nor any package beyond the standard library for it."""
from __future__ import annotations

import ctypes
import re

JACK_NO_START_SERVER = 0x01
JACK_PORT_IS_OUTPUT = 0x02


class JackGraph:
    """Who is connected to whom, through libjack (ctypes): a client that is never
    activated, so it runs no process thread and costs nothing between questions."""

    def __init__(self) -> None:
        lib = ctypes.CDLL("libjack.so.0")
        lib.jack_client_open.restype = ctypes.c_void_p
        lib.jack_client_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
        lib.jack_get_ports.restype = ctypes.POINTER(ctypes.c_char_p)
        lib.jack_get_ports.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong]
        lib.jack_port_by_name.restype = ctypes.c_void_p
        lib.jack_port_by_name.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.jack_port_get_all_connections.restype = ctypes.POINTER(ctypes.c_char_p)
        lib.jack_port_get_all_connections.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.jack_free.argtypes = [ctypes.c_void_p]
        lib.jack_client_close.argtypes = [ctypes.c_void_p]
        self.lib = lib
        status = ctypes.c_int()
        self.client = lib.jack_client_open(b"livejam-watchdog", JACK_NO_START_SERVER, ctypes.byref(status))
        if not self.client:
            raise OSError("no JACK server")

    def _names(self, array) -> list[str]:
        if not array:
            return []
        out, i = [], 0
        while array[i]:
            out.append(array[i].decode(errors="replace"))
            i += 1
        self.lib.jack_free(ctypes.cast(array, ctypes.c_void_p))
        return out

    def destinations(self, own: set[str]) -> set[str]:
        """Every port that livejam's output ports (`own`: their names within the
        client) are connected to. livejam's clients are "livejam", or "livejam-NN"
        where JACK had to tell two apart; libjack here cannot say which process owns
        a client, so a second livejam's same-named port would count too (a panic
        there is harmless)."""
        lib, out = self.lib, set()
        for name in self._names(lib.jack_get_ports(self.client, None, b"midi", JACK_PORT_IS_OUTPUT)):
            client, _, short = name.partition(":")
            if short in own and re.fullmatch(r"livejam(-\d+)?", client):
                port = lib.jack_port_by_name(self.client, name.encode())
                if port:
                    out |= set(self._names(lib.jack_port_get_all_connections(self.client, port)))
        return out

    def close(self) -> None:
        self.lib.jack_client_close(self.client)
