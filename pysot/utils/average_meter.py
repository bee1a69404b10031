"""Running averages of training statistics (losses, timings) for logging."""

from __future__ import annotations


class AverageMeter:
    """Last value, sum, count and mean of a scalar series; ``window`` > 0 also keeps a moving mean
    over the last ``window`` values (``recent``)."""

    def __init__(self, window: int = 0) -> None:
        self.window = int(window)
        self.reset()

    def reset(self) -> None:
        """Forget everything."""
        self.val = 0.0
        self.sum = 0.0
        self.count = 0
        self._recent: list[float] = []

    def update(self, value: float, n: int = 1) -> None:
        """Add ``value`` observed ``n`` times (e.g. a batch mean over ``n`` samples)."""
        self.val = float(value)
        self.sum += float(value) * n
        self.count += n
        if self.window > 0:
            self._recent.append(float(value))
            del self._recent[: -self.window]

    @property
    def avg(self) -> float:
        """Mean of everything seen (0 before the first update)."""
        return self.sum / self.count if self.count else 0.0

    @property
    def recent(self) -> float:
        """Mean of the last ``window`` values (the overall mean when ``window`` is 0)."""
        if self.window <= 0 or not self._recent:
            return self.avg
        return sum(self._recent) / len(self._recent)
