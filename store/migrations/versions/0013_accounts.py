"""accounts and team channels: a person's and a team's platform ids as rows, not a column per platform

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACCOUNT_COLUMNS = {"wecom": "wecom_userid", "dingtalk": "dingtalk_userid"}


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("employee_id", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"], name=op.f("fk_accounts_employee_id_employees")),
        sa.PrimaryKeyConstraint("employee_id", "platform", name=op.f("pk_accounts")),
        sa.UniqueConstraint("platform", "user_id", name=op.f("uq_accounts_platform")),
    )
    op.create_table(
        "team_channels",
        sa.Column("team", sa.String(length=100), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["team"], ["teams.name"], name=op.f("fk_team_channels_team_teams")),
        sa.PrimaryKeyConstraint("team", "platform", name=op.f("pk_team_channels")),
    )
    bind = op.get_bind()
    for platform, column in _ACCOUNT_COLUMNS.items():
        bind.execute(
            sa.text(
                f"INSERT INTO accounts (employee_id, platform, user_id) "
                f"SELECT id, '{platform}', {column} FROM employees WHERE {column} IS NOT NULL AND {column} <> ''"
            )
        )
    # a chat id wins over a group robot, as the old rule had it; robots keep the prefix their sender reads
    bind.execute(
        sa.text(
            "INSERT INTO team_channels (team, platform, target) SELECT name, 'wecom', "
            "CASE WHEN wecom_chat_id IS NOT NULL AND wecom_chat_id <> '' THEN wecom_chat_id "
            "ELSE 'webhook:' || wecom_webhook_key END FROM teams "
            "WHERE COALESCE(wecom_chat_id, '') <> '' OR COALESCE(wecom_webhook_key, '') <> ''"
        )
    )
    bind.execute(
        sa.text(
            "INSERT INTO team_channels (team, platform, target) SELECT name, 'dingtalk', "
            "CASE WHEN dingtalk_conversation_id IS NOT NULL AND dingtalk_conversation_id <> '' "
            "THEN dingtalk_conversation_id ELSE 'robot:' || dingtalk_webhook END FROM teams "
            "WHERE COALESCE(dingtalk_conversation_id, '') <> '' OR COALESCE(dingtalk_webhook, '') <> ''"
        )
    )
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.drop_constraint("uq_employees_wecom_userid", type_="unique")
        batch_op.drop_constraint("uq_employees_dingtalk_userid", type_="unique")
        batch_op.drop_column("wecom_userid")
        batch_op.drop_column("dingtalk_userid")
    with op.batch_alter_table("teams", schema=None) as batch_op:
        for column in ("wecom_chat_id", "wecom_webhook_key", "dingtalk_conversation_id", "dingtalk_webhook"):
            batch_op.drop_column(column)


def downgrade() -> None:
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wecom_chat_id", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("wecom_webhook_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("dingtalk_conversation_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("dingtalk_webhook", sa.String(length=500), nullable=True))
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wecom_userid", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("dingtalk_userid", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_employees_wecom_userid", ["wecom_userid"])
        batch_op.create_unique_constraint("uq_employees_dingtalk_userid", ["dingtalk_userid"])
    bind = op.get_bind()
    for platform, column in _ACCOUNT_COLUMNS.items():
        bind.execute(
            sa.text(
                f"UPDATE employees SET {column} = (SELECT user_id FROM accounts "
                f"WHERE accounts.employee_id = employees.id AND accounts.platform = '{platform}')"
            )
        )
    for platform, chat, robot, prefix in (
        ("wecom", "wecom_chat_id", "wecom_webhook_key", "webhook:"),
        ("dingtalk", "dingtalk_conversation_id", "dingtalk_webhook", "robot:"),
    ):
        target = f"(SELECT target FROM team_channels WHERE team_channels.team = teams.name AND platform = '{platform}')"
        bind.execute(
            sa.text(f"UPDATE teams SET {robot} = substr({target}, {len(prefix) + 1}) WHERE {target} LIKE '{prefix}%'")
        )
        bind.execute(sa.text(f"UPDATE teams SET {chat} = {target} WHERE {target} NOT LIKE '{prefix}%'"))
    op.drop_table("team_channels")
    op.drop_table("accounts")
