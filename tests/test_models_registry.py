"""An embedded model split into package parts is assembled into one file on first use
(harmstudy/models/registry.py): two processes doing so at once (tests side by side, notebooks outside make)
get the whole file, not one interleaved with the other's."""
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

ASSEMBLE = """
import sys
from pathlib import Path
from harmstudy.models import registry
parts = sorted(Path(sys.argv[1]).glob("part*.bin"))
registry._concatenate(parts, Path(sys.argv[2]))
"""


def test_two_processes_assembling_one_model_at_once_both_leave_the_whole_file(tmp_path):
    parts = tmp_path / "parts"
    parts.mkdir()
    blocks = [os.urandom(6 << 20) for _ in range(4)]                 # 24 MiB in four parts
    for i, block in enumerate(blocks):
        (parts / f"part{i}.bin").write_bytes(block)
    target = tmp_path / "models" / "model.gguf"
    procs = [subprocess.Popen([sys.executable, "-c", ASSEMBLE, str(parts), str(target)], cwd=REPO,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errors = [p.communicate()[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    assert target.read_bytes() == b"".join(blocks)
    assert [p.name for p in target.parent.iterdir()] == ["model.gguf"]      # no part-written file left behind


def test_an_assembly_that_fails_part_way_leaves_no_file(tmp_path):
    import pytest

    from harmstudy.models import registry

    (tmp_path / "part0.bin").write_bytes(b"first part")
    target = tmp_path / "models" / "model.gguf"
    with pytest.raises(FileNotFoundError):
        registry._concatenate([tmp_path / "part0.bin", tmp_path / "part1.bin"], target)    # the second is missing
    assert list(target.parent.iterdir()) == []                 # neither the model nor a partial file
