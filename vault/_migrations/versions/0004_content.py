"""content: tombstones of retired case key versions, index nodes' outbox positions, the outbox horizon.

New tables only; no column changes and no data to convert (a document key made before its
version was numbered after the case key is version 1, which is what its ciphertexts say).

Revision ID: 0004_content
Revises: 0003_custody
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_content"
down_revision = "0003_custody"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_key_retired",
        sa.Column("case_id", sa.String(36), sa.ForeignKey("case.id"), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("retired_by", sa.String(200), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "index_node",
        sa.Column("node", sa.String(36), primary_key=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "index_outbox_horizon",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("pruned_through", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("index_outbox_horizon")
    op.drop_table("index_node")
    op.drop_table("case_key_retired")
