"""Every signal family. Importing this package registers their stages and features.

Adding a signal: one small module here (a stage and its ``@feature`` functions), listed
below, plus its test under ``tests/signals/``. Order matters only for output column order.
"""

from . import base  # noqa: F401  (helper tables first)
from . import (payout, portfolio, working_hours, rhythm, login_hours,  # noqa: F401
               access, routes, identity_graph, takeover)
from . import neighbours  # noqa: F401  (second phase: reads the features above)
