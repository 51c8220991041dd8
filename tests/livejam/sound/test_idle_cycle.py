"""The idle cycle's machine code, called directly: libjack's get_buffer and the
Python callback are ctypes fakes that record what they were asked, and the board
is a word of our own."""
import ctypes

import numpy as np
import pytest

from livejam.sound.idle_cycle import IdleCycle

CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint32, ctypes.c_void_p)  # JACK's process callback
GET_BUFFER = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32)
FRAMES = 256


class Rig:
    def __init__(self, python_returns: int = 0) -> None:
        self.buffers = {11: np.full(FRAMES + 8, 0.5, np.float32), 22: np.full(FRAMES + 8, -0.5, np.float32)}
        self.asked, self.python = [], []
        self.board = (ctypes.c_uint64 * 1)()

        def get(handle, frames):
            self.asked.append((handle, frames))
            return self.buffers[handle].ctypes.data

        def python(frames, arg):
            self.python.append((frames, arg))
            return python_returns

        self._keep = (GET_BUFFER(get), CALLBACK(python))
        address = [ctypes.cast(f, ctypes.c_void_p).value for f in self._keep]
        self.cycle = IdleCycle(address[0], [11, 22], address[1], ctypes.addressof(self.board))
        self.call = CALLBACK(self.cycle.address)


def test_until_python_says_quiet_every_cycle_is_pythons_and_its_answer_is_jacks():
    rig = Rig(python_returns=7)
    assert rig.call(FRAMES, 1234) == 7  # non-zero: JACK calls the client no more, as with JACK-Client
    assert rig.call(FRAMES, None) == 7
    assert rig.python == [(FRAMES, 1234), (FRAMES, None)]
    assert rig.asked == []  # the buffers are Python's to write
    assert (rig.buffers[11] == 0.5).all() and (rig.buffers[22] == -0.5).all()


def test_quiet_and_nothing_written_the_machine_code_zeroes_both_buffers_exactly_and_python_is_not_entered():
    rig = Rig()
    rig.board[0] = 5
    rig.cycle.rest(5)
    for _ in range(3):
        assert rig.call(FRAMES, None) == 0
    assert rig.python == []
    assert rig.asked == [(11, FRAMES), (22, FRAMES)] * 3  # asked for each cycle (PipeWire's JACK: a new buffer each)
    for buffer, before in ((rig.buffers[11], 0.5), (rig.buffers[22], -0.5)):
        assert not buffer[:FRAMES].any()  # the whole block
        assert (buffer[FRAMES:] == before).all()  # and not a byte past it


@pytest.mark.parametrize("frames", [64, 1024])
def test_the_block_zeroed_is_the_cycles_size(frames):
    rig = Rig()
    rig.buffers = {h: np.ones(frames + 4, np.float32) for h in (11, 22)}
    rig.cycle.rest(0)
    assert rig.call(frames, None) == 0
    assert all(not b[:frames].any() and (b[frames:] == 1).all() for b in rig.buffers.values())


def test_a_write_from_livejam_hands_the_cycle_back_to_python_until_it_says_quiet_again():
    rig = Rig()
    rig.cycle.rest(0)
    rig.call(FRAMES, None)
    assert rig.python == []
    rig.board[0] = 1  # livejam wrote a record
    rig.call(FRAMES, None)
    assert len(rig.python) == 1
    rig.board[0] = 0  # even back where it was: "quiet" was cleared, Python plays on
    rig.call(FRAMES, None)
    assert len(rig.python) == 2
    rig.cycle.rest(0)
    rig.call(FRAMES, None)
    assert len(rig.python) == 2
