"""Net benefit of predictions.csv by the Python package dcurves (1.1.7, Apache-2.0),
for tests/validation/test_increment_third_party.py.  Not a dependency of alsstats:
run once in a separate environment (``pip install dcurves==1.1.7``) from this folder:

    python dcurves_reference.py
"""

import numpy as np
import pandas as pd
from dcurves import dca

data = pd.read_csv("predictions.csv")
curve = dca(data=data, outcome="y", modelnames=["p_old", "p_new"],
            thresholds=np.arange(1, 10) / 10)
curve = curve[curve["model"].isin(["p_old", "p_new", "all"])]
curve[["model", "threshold", "net_benefit"]].to_csv("dcurves_reference.csv", index=False,
                                                     float_format="%.15g")
