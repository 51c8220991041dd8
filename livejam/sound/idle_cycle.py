"""The synth's JACK callback as machine code for its idle cycles, so that nearly
every cycle of a synth that is on and silent runs no Python at all.

Why: JACK calls the synth 187.5 times a second (256 frames at 48 kHz) whether it
sounds or not. Entering Python for each of those calls, to zero two buffers, cost
0.7 % of a core on the build machine, against 0.25 % for the same zeroing in
machine code; the issue-20 budget for the synth's idle cost is 1 % in all
(docs/BENCHMARKS.md).

How: llvmlite (LLVM, numba's backend; wheels for every platform livejam runs
on, no compiler on the user's machine) builds one small function when the synth
opens. JACK calls it each cycle. While the Python callback has said "quiet" and
livejam has written nothing since (the board: the count of livejam's writes into
the synth's pipe, synth_link.py), it zeroes both ports' buffers through libjack
itself and returns. Otherwise it clears "quiet" and calls the Python callback,
which plays the cycle as before and says "quiet" again once the synth is idle.

The state both sides read is two words: [0] the board count Python last took,
[1] 1 while the idle cycles are the machine code's. Only JACK's process thread
touches them (the machine code, and the Python callback it calls), so they need
no lock; the board is another process's, read whole (an aligned 8-byte load)."""
from __future__ import annotations

import ctypes
from typing import Callable

SEEN, QUIET = 0, 1  # the state's two words


class IdleCycle:
    """The compiled callback (`address`: a C function pointer int(frames, arg))
    with its state. `rest(seen)`: from the next cycle, idle cycles are the machine
    code's until the board moves past `seen`. Keep this object as long as JACK may
    call the function: the machine code lives in its engine."""

    def __init__(self, get_buffer: int, handles: list[int], python: int, board: int) -> None:
        import llvmlite.binding as llvm

        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        self.state = (ctypes.c_uint64 * 2)()
        ir_text = _cycle_ir(get_buffer, handles, python, board, ctypes.addressof(self.state))
        module = llvm.parse_assembly(ir_text)
        module.verify()
        machine = llvm.Target.from_default_triple().create_target_machine(opt=2)
        self.engine = llvm.create_mcjit_compiler(module, machine)
        self.engine.finalize_object()
        self.address = self.engine.get_function_address("cycle")

    def rest(self, seen: int) -> None:
        self.state[SEEN] = seen
        self.state[QUIET] = 1


def _cycle_ir(get_buffer: int, handles: list[int], python: int, board: int, state: int) -> str:
    """The function, in LLVM's IR, each address baked in as a constant:

        int cycle(uint32 frames, void *arg) {
            if (state[QUIET] && *board == state[SEEN]) {
                for each port: memset(jack_port_get_buffer(port, frames), 0, 4 * frames);
                return 0;
            }
            state[QUIET] = 0;
            return python(frames, arg);
        }
    """
    import llvmlite.ir as ir

    i1, i8, i32, i64 = ir.IntType(1), ir.IntType(8), ir.IntType(32), ir.IntType(64)
    i8p, i64p = i8.as_pointer(), i64.as_pointer()
    module = ir.Module(name="livejam_idle_cycle")
    module.triple = ""  # the host's (the target machine sets it)
    fn = ir.Function(module, ir.FunctionType(i32, [i32, i8p]), name="cycle")
    frames, arg = fn.args
    entry, check, idle, busy = (fn.append_basic_block(n) for n in ("entry", "check", "idle", "busy"))

    def pointer(b: ir.IRBuilder, address: int, to):  # an instruction, not a constant expression: a call needs its type
        return b.inttoptr(ir.Constant(i64, address), to)

    b = ir.IRBuilder(entry)
    quiet_word = b.gep(pointer(b, state, i64p), [ir.Constant(i32, QUIET)])
    quiet = b.load(quiet_word)
    b.cbranch(b.icmp_unsigned("!=", quiet, ir.Constant(i64, 0)), check, busy)

    b = ir.IRBuilder(check)
    written = b.load_atomic(pointer(b, board, i64p), "monotonic", 8)  # another process writes it
    seen = b.load(b.gep(pointer(b, state, i64p), [ir.Constant(i32, SEEN)]))
    b.cbranch(b.icmp_unsigned("==", written, seen), idle, busy)

    b = ir.IRBuilder(idle)
    get = pointer(b, get_buffer, ir.FunctionType(i8p, [i8p, i32]).as_pointer())
    memset = module.declare_intrinsic("llvm.memset", [i8p, i32])
    size = b.mul(frames, ir.Constant(i32, 4))  # float32 samples
    for handle in handles:
        buffer = b.call(get, [pointer(b, handle, i8p), frames])
        b.call(memset, [buffer, ir.Constant(i8, 0), size, ir.Constant(i1, 0)])
    b.ret(ir.Constant(i32, 0))

    b = ir.IRBuilder(busy)
    b.store(ir.Constant(i64, 0), quiet_word)
    call = pointer(b, python, ir.FunctionType(i32, [i32, i8p]).as_pointer())
    b.ret(b.call(call, [frames, arg]))
    return str(module)


def machine_code(jack, client, handles: list, python: Callable[[int], int], board) -> IdleCycle | None:
    """Installs the machine-code callback on JACK-Client's (inactive) `client`:
    the IdleCycle (holding the Python callback's cffi handle), to be kept while the
    client runs; None where it cannot be made here (no llvmlite, a JACK-Client
    without its cffi handles, an LLVM that fails): the caller then installs its
    Python callback as it would have. `python(frames)` returns 0, or non-zero to
    be called no more (JACK's own convention)."""
    lib, ffi = getattr(jack, "_lib", None), getattr(jack, "_ffi", None)
    if lib is None or ffi is None or None in handles or getattr(client, "_ptr", None) is None:
        return None
    try:
        entry = ffi.callback("JackProcessCallback", lambda frames, _arg: python(frames), error=1)
        cycle = IdleCycle(_address(ffi, ffi.addressof(lib, "jack_port_get_buffer")),
                          [_address(ffi, h) for h in handles], _address(ffi, entry),
                          ctypes.addressof(ctypes.c_uint64.from_buffer(board)))
    except Exception:  # noqa: BLE001 - any failure here leaves the Python callback, which works everywhere
        return None
    if lib.jack_set_process_callback(client._ptr, ffi.cast("JackProcessCallback", cycle.address), ffi.NULL):
        return None
    cycle.entry = entry  # the machine code calls it: alive as long as the cycle
    return cycle


def _address(ffi, cdata) -> int:
    return int(ffi.cast("uintptr_t", cdata))
