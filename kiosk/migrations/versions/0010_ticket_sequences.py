"""Ticket numbers from a per-site sequence on PostgreSQL: no row lock held by every deposit.

- next_ticket_no(site) gives the site's next ticket number ("A-0042") from the sequence
  ``ticket_no_<site>``, making it (once, under an advisory lock) the first time a site deposits.
  SECURITY DEFINER: the app's role may not create sequences, the schema owner's function may.
- Each sequence starts after what the site's ticket_counters row reached and is owned by
  ticket_counters.last_value, so TRUNCATE … RESTART IDENTITY restarts it with the table.
- SQLite keeps ticket_counters: a writer there holds the whole database anyway.

Revision ID: 0010_ticket_sequences
Revises: 0009_trust

"""
from alembic import op

revision = "0010_ticket_sequences"
down_revision = "0009_trust"
branch_labels = None
depends_on = None

NEXT_TICKET_NO = """
CREATE FUNCTION next_ticket_no(site text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    seq_name text := 'ticket_no_' || site;
    value bigint;
BEGIN
    IF to_regclass(quote_ident(seq_name)) IS NULL THEN
        -- The site's first ticket in this database: one creator at a time, once.
        PERFORM pg_advisory_xact_lock(hashtext(seq_name));
        BEGIN
            EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I START WITH %s OWNED BY ticket_counters.last_value',
                           seq_name, COALESCE((SELECT c.last_value FROM ticket_counters c WHERE c.site = $1), 0) + 1);
        EXCEPTION WHEN duplicate_table OR unique_violation THEN
            NULL;
        END;
    END IF;
    value := nextval(quote_ident(seq_name));
    RETURN site || '-' || CASE WHEN value < 10000 THEN lpad(value::text, 4, '0') ELSE value::text END;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(NEXT_TICKET_NO)
    op.execute("""
DO $$
DECLARE counter record;
BEGIN
    FOR counter IN SELECT site, last_value FROM ticket_counters LOOP
        EXECUTE format('CREATE SEQUENCE %I START WITH %s OWNED BY ticket_counters.last_value',
                       'ticket_no_' || counter.site, counter.last_value + 1);
    END LOOP;
END
$$
""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Back to the counters: each site's counter takes the last number its sequence gave.
    op.execute("""
DO $$
DECLARE seq record; reached bigint;
BEGIN
    FOR seq IN SELECT c.relname FROM pg_class c WHERE c.relkind = 'S' AND c.relname LIKE 'ticket\\_no\\_%'
               AND c.relnamespace = current_schema()::regnamespace LOOP
        EXECUTE format('SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM %I', seq.relname)
            INTO reached;
        INSERT INTO ticket_counters (site, last_value) VALUES (substr(seq.relname, 11), reached)
            ON CONFLICT (site) DO UPDATE SET last_value = greatest(ticket_counters.last_value, excluded.last_value);
        EXECUTE format('DROP SEQUENCE %I', seq.relname);
    END LOOP;
END
$$
""")
    op.execute("DROP FUNCTION next_ticket_no(text)")
