"""Access state a database writer cannot forge: a ``mac`` column on every table whose rows decide
access (see ``vault._integrity``), and an index on the audit log's target, by which a replayed
unmask grant is checked against its recorded revocation.

Rows of an existing vault have no MAC yet and read as tampered until the format step
``vault._stamping.upgrade_integrity`` stamps them (it needs the unsealed keys).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_integrity"
down_revision = "0004_content"
branch_labels = None
depends_on = None

TABLES = ("user_account", "membership", "membership_pending", "access_key", "web_session", "enrolment",
          "user_credential", "document", "unmask_request")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("mac", sa.LargeBinary(length=32), nullable=True))
    op.create_index("ix_audit_log_target", "audit_log", ["target"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_log_target", table_name="audit_log")
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("mac")
