"""Table metadata for Alembic: importing this module registers every table.

Each domain package keeps its own `models.py`; list it here once.
"""

from sqlmodel import SQLModel

# A constraint naming convention keeps migrations identical on SQLite (batch mode) and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

from api.audit import models as _audit  # noqa: E402,F401
from api.auth import models as _auth  # noqa: E402,F401
from api.elections import models as _elections  # noqa: E402,F401
from api.lists import models as _lists  # noqa: E402,F401
from api.log import models as _log  # noqa: E402,F401
from api.log import tree_models as _log_tree  # noqa: E402,F401
from api.nominations import models as _nominations  # noqa: E402,F401
from api.roll import models as _roll  # noqa: E402,F401
from api.tally import models as _tally  # noqa: E402,F401
from api.voting import models as _voting  # noqa: E402,F401

metadata = SQLModel.metadata
