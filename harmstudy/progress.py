"""Progress bars with ETA that show in a notebook *and* in the terminal that runs papermill."""
from __future__ import annotations

import sys

from tqdm import tqdm as plain_tqdm
from tqdm.auto import tqdm as auto_tqdm


def _in_kernel() -> bool:
    return "ipykernel" in sys.modules and sys.__stderr__ is not sys.stderr


class Progress:
    """One logical bar: a notebook widget (or terminal bar) plus, inside a kernel, a mirror on the
    kernel's own stderr, which is the terminal of ``make paper``."""

    def __init__(self, total: int, desc: str, unit: str = "it", enabled: bool = True):
        self.bars = []
        if enabled and total:
            self.bars.append(auto_tqdm(total=total, desc=desc, unit=unit, dynamic_ncols=True))
            if _in_kernel():
                self.bars.append(plain_tqdm(total=total, desc=desc, unit=unit, file=sys.__stderr__,
                                            mininterval=2.0))

    def update(self, n: int = 1, **postfix) -> None:
        for bar in self.bars:
            if postfix:
                bar.set_postfix(postfix, refresh=False)
            bar.update(n)

    def close(self) -> None:
        for bar in self.bars:
            bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
