"""searches: a search kept under an opaque id (its page's address), saved searches.

One new table; nothing to convert.

Revision ID: 0006_searches
Revises: 0005_integrity
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_searches"
down_revision = "0005_integrity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_record",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("query_ct", sa.LargeBinary(), nullable=False),
        sa.Column("name_ct", sa.LargeBinary(), nullable=True),
        sa.Column("seen_ct", sa.LargeBinary(), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_search_record_user_id", "search_record", ["user_id"], unique=False)
    op.create_index("ix_search_record_expires_at", "search_record", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_search_record_expires_at", table_name="search_record")
    op.drop_index("ix_search_record_user_id", table_name="search_record")
    op.drop_table("search_record")
