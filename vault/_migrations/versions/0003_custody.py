"""custody: the root key's seals (root_seal), one row per way to open it (passphrase, shares).

A new table only. The master key versions of an older vault stay sealed by the passphrase until
it is first unsealed: ``vault._custody.convert_release_1`` then makes the root key (sealed by the
same passphrase and Argon2id parameters) and wraps every master version under it, in one
transaction.

Revision ID: 0003_custody
Revises: 0002_format_steps
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_custody"
down_revision = "0002_format_steps"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "root_seal",
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("split_id", sa.Integer(), nullable=True),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("share_count", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("method"),
    )


def downgrade() -> None:
    raise NotImplementedError("a vault is never downgraded: restore the backup made before upgrading")
