"""python manage.py audit_db_role ROLE [--password-env VAR] [--execute]: the application's database role.

On PostgreSQL, the role the application connects as should not own the tables (an owner may do anything,
triggers aside) and should hold only INSERT and SELECT on the audit log. This prints the SQL that creates
or updates such a role, or runs it (`--execute`) as the connection configured now, the owner's, which
runs the migrations. Run it again after each `migrate`: new tables get their grants. See docs/deploy.md.
"""

import os
import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from zongzhi.audit.models import AuditEntry

_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _audit_partitions() -> list[str]:
    """The audit log's partitions on PostgreSQL (docs/deploy.md): each is refused what the parent is."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass ORDER BY c.relname",
            [AuditEntry._meta.db_table],
        )
        return [row[0] for row in cursor.fetchall()]


def role_sql(role: str, database: str, password: str | None, partitions: list[str] | None = None) -> list[str]:
    """The statements that make `role` an application role: all data rights, none to change the audit log."""
    audit = AuditEntry._meta.db_table
    statements = [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
        f'THEN CREATE ROLE "{role}" LOGIN; END IF; END $$',
        f'ALTER ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS',
        f'GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO "{role}"',
        f'GRANT USAGE ON SCHEMA public TO "{role}"',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"',
        f'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO "{role}"',
        # The audit log: read and append, nothing else; TRUNCATE is granted nowhere.
        f'REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {audit} FROM "{role}"',
        *(
            f'REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON "{partition}" FROM "{role}"'
            for partition in partitions or []
        ),
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{role}"',
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO "{role}"',
    ]
    if password is not None:
        quoted = "'" + password.replace("'", "''") + "'"
        statements.insert(2, f'ALTER ROLE "{role}" PASSWORD {quoted}')
    return statements


class Command(BaseCommand):
    help = (
        "Print (or --execute) the SQL for the application's PostgreSQL role: INSERT and SELECT only on the audit log."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="the role's name, e.g. zongzhi_app")
        parser.add_argument("--password-env", help="the environment variable holding the role's password")
        parser.add_argument("--execute", action="store_true", help="run the statements instead of printing them")

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("数据库角色仅适用于 PostgreSQL（DATABASE_URL=postgres://…）。")
        role = options["role"]
        if not _ROLE.fullmatch(role):
            raise CommandError("角色名只能由小写字母、数字和下划线组成，且不以数字开头。")
        password = None
        if options["password_env"]:
            password = os.environ.get(options["password_env"])
            if not password:
                raise CommandError(f"环境变量 {options['password_env']} 未设置或为空。")
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_database(), current_user")
            database, owner = cursor.fetchone()
        if role == owner:
            raise CommandError(f"角色 {role} 是当前连接（迁移）所用的角色：应用须使用另一个角色。")
        statements = role_sql(role, database, password, _audit_partitions())
        if not options["execute"]:
            self.stdout.write(";\n".join(statements) + ";")
            return
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(f"角色 {role} 已就绪：审计日志仅可 INSERT、SELECT。")
