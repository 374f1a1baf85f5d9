"""document dates: a document's own date (a decision's, a call's) beside the upload day.

One nullable column. Existing documents get their date from the format step ``document-dates``
(``vault._document_dates``), which reads their extracted text again once the vault is unsealed;
those where nothing is found stay without one until a reviewer sets it.

Revision ID: 0007_document_dates
Revises: 0006_searches
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_document_dates"
down_revision = "0006_searches"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document") as batch:
        batch.add_column(sa.Column("document_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("document") as batch:
        batch.drop_column("document_date")
