"""The table of finished format steps (vault_format).

``casevault upgrade`` records each format step there when it finishes; the check that refuses a
vault whose data is behind this release reads it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_format_steps"
down_revision = "0001_release_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("vault_format",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name")
    )


def downgrade() -> None:
    raise NotImplementedError("a vault is never downgraded: restore the backup made before upgrading")
