"""Fails loudly when the PostgreSQL server the persistence tests need cannot be reached.

CI must run the PostgreSQL pass for real: a suite that silently skips proves nothing.
"""

import sys

import sqlalchemy


def main(url: str) -> int:
    try:
        with sqlalchemy.create_engine(url).connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except Exception as error:
        print(f"require_database: cannot reach {url}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
