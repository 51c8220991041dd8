"""The tempo fit's arithmetic gives numpy's values (timing/fitting.py)."""
import numpy as np
import pytest

from livejam.timing.fitting import median, percentile, polyfit, polyval


@pytest.mark.parametrize("n", [6, 7, 12, 13, 48, 96])
def test_the_fit_and_order_statistics_match_numpy(n):
    rng = np.random.default_rng(n)
    x = np.arange(n, dtype=float) - (n - 1)  # ticks back from the newest, as tempo.py fits them
    y = 0.0208 * x + 2e-6 * x * x + rng.normal(0, 1e-3, n)  # a ramp, delayed arrivals
    w = np.exp2(x / 36)
    for degree in (1, 2):
        ref = np.polyfit(x, y, degree, w=np.sqrt(w))  # numpy weights the residuals, not their squares
        got = polyfit(x, y, degree, w)
        assert np.allclose(got, ref, rtol=1e-7, atol=1e-12)
        assert np.allclose(polyval(got, x), np.polyval(ref, x), atol=1e-12)
    assert np.allclose(polyfit(x, y, 1), np.polyfit(x, y, 1))
    a = rng.normal(size=n)
    assert median(a) == np.median(a)
    assert percentile(a, 5) == pytest.approx(np.percentile(a, 5), abs=1e-15)
