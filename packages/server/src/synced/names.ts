/**
 * Identifiers built from names a source or a client chose. Every one is checked against a
 * strict pattern and then quoted anyway: nothing from a payload reaches SQL unquoted.
 */
const SCHEMA = /^[a-z][a-z0-9_]{1,39}$/;
const TABLE = /^[a-z][a-z0-9_]{0,25}$/;
const COLUMN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isColumnName(name: string): boolean {
  return COLUMN.test(name);
}

function checked(name: string, pattern: RegExp, what: string): string {
  if (!pattern.test(name)) throw new Error(`not a valid ${what} name: ${JSON.stringify(name)}`);
  return name;
}

/** `"name"`, with any quote doubled. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function schemaIdent(schema: string): string {
  return quoteIdent(checked(schema, SCHEMA, 'schema'));
}

/** The live rows of a target table, in the source's schema. */
export function dataTable(schema: string, table: string): string {
  return `${schemaIdent(schema)}.${quoteIdent(checked(table, TABLE, 'table'))}`;
}

/** `tenants."<tenant uuid>_<table>"`: a tenant's rows and columns of one table. */
export function tenantView(tenantId: string, table: string): string {
  return `tenants.${quoteIdent(`${checked(tenantId, UUID, 'tenant id')}_${checked(table, TABLE, 'table')}`)}`;
}

export function columnIdent(column: string): string {
  return quoteIdent(checked(column, COLUMN, 'column'));
}

/** A string as an SQL literal (for DDL, which takes no parameters). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
