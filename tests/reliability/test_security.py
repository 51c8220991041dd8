"""Security basics: the runtime loads ONNX only (never a pickle), every PyTorch
checkpoint load is weights_only, no path goes through a shell, and a running
livejam listens on no socket."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def calls(package: str):
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                yield path, node


def name_of(func) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def test_every_torch_load_is_weights_only_and_the_runtime_loads_no_pickle():
    loads = [(p, n) for p, n in calls("training") if name_of(n.func) == "load" and "torch" in ast.unparse(n.func)]
    assert loads
    for path, node in loads:
        kw = {k.arg: k.value for k in node.keywords}
        assert "weights_only" in kw and ast.literal_eval(kw["weights_only"]) is True, f"{path}:{node.lineno}"
    for path, node in calls("livejam"):
        assert name_of(node.func) not in ("load", "loads") or "pickle" not in ast.unparse(node.func), path


def test_nothing_runs_through_a_shell():
    for package in ("livejam", "training"):
        for path, node in calls(package):
            assert ast.unparse(node.func) != "os.system", f"os.system in {path}:{node.lineno}"
            for k in node.keywords:
                if k.arg == "shell":
                    assert not ast.literal_eval(k.value), f"shell=True in {path}:{node.lineno}"


def listening_sockets(pid: int) -> list[str]:
    """Sockets of `pid` that listen: TCP/UDP on any address, or UNIX sockets accepting."""
    inodes = set()
    for fd in (Path(f"/proc/{pid}/fd")).iterdir():
        try:
            target = fd.readlink().name if hasattr(fd, "readlink") else ""
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            f = line.split()
            if f[9] in inodes and (table.startswith("udp") or f[3] == "0A"):
                found.append(f"{table} {f[1]}")
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        f = line.split()
        if f[6] in inodes and int(f[3], 16) & 0x10000:  # __SO_ACCEPTCON: a listening UNIX socket
            found.append(f"unix {f[-1] if len(f) > 7 else '(unnamed)'}")
    return found


@pytest.mark.usefixtures("jack_server")
def test_a_running_livejam_listens_on_no_socket(livejam):
    lj = livejam("--virtual")
    try:
        assert listening_sockets(lj.proc.pid) == []
    finally:
        lj.stop()
