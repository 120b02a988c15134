import type { SqlDb } from './sql.js';

export interface CreationTemplateRow {
  registryId: string;
  /** The template's key: its prefix without a trailing '/', or ROOT. */
  prefix: string;
  /** The template's settings as the domain stores them. */
  template: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

interface RawTemplate {
  registry_id: string;
  prefix: string;
  template: string;
  created_at: number | string;
  updated_at: number | string;
}

function toRow(r: RawTemplate): CreationTemplateRow {
  return {
    registryId: r.registry_id,
    prefix: r.prefix,
    template: JSON.parse(r.template) as Record<string, unknown>,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** Repository creation templates, one per (registry, prefix). */
export class CreationTemplateStore {
  constructor(private readonly db: SqlDb) {}

  /** Inserts the template; false when the registry has one with that prefix already. */
  async create(registryId: string, prefix: string, template: Record<string, unknown>, at: number): Promise<boolean> {
    const { changes } = await this.db.run(
      'INSERT INTO creation_templates (registry_id, prefix, template, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (registry_id, prefix) DO NOTHING',
      [registryId, prefix, JSON.stringify(template), at, at],
    );
    return changes > 0;
  }

  async get(registryId: string, prefix: string): Promise<CreationTemplateRow | undefined> {
    const r = await this.db.get<RawTemplate>('SELECT * FROM creation_templates WHERE registry_id = ? AND prefix = ?', [registryId, prefix]);
    return r && toRow(r);
  }

  /** The registry's templates in prefix order. */
  async list(registryId: string): Promise<CreationTemplateRow[]> {
    const rows = await this.db.all<RawTemplate>('SELECT * FROM creation_templates WHERE registry_id = ? ORDER BY prefix', [registryId]);
    return rows.map(toRow);
  }

  /**
   * Replaces the template with `change(current)` inside one write transaction, so two updates
   * made at once both survive; undefined when there is no such template.
   */
  async update(
    registryId: string,
    prefix: string,
    change: (current: Record<string, unknown>) => Record<string, unknown>,
    at: number,
  ): Promise<CreationTemplateRow | undefined> {
    return this.db.transaction(async (tx) => {
      const r = await tx.get<RawTemplate>('SELECT * FROM creation_templates WHERE registry_id = ? AND prefix = ?', [registryId, prefix]);
      if (!r) return undefined;
      const template = change(toRow(r).template);
      await tx.run('UPDATE creation_templates SET template = ?, updated_at = ? WHERE registry_id = ? AND prefix = ?', [
        JSON.stringify(template),
        at,
        registryId,
        prefix,
      ]);
      return { ...toRow(r), template, updatedAt: at };
    });
  }

  /** Deletes the template and returns it; undefined when there was none. */
  async delete(registryId: string, prefix: string): Promise<CreationTemplateRow | undefined> {
    return this.db.transaction(async (tx) => {
      const r = await tx.get<RawTemplate>('SELECT * FROM creation_templates WHERE registry_id = ? AND prefix = ?', [registryId, prefix]);
      if (!r) return undefined;
      await tx.run('DELETE FROM creation_templates WHERE registry_id = ? AND prefix = ?', [registryId, prefix]);
      return toRow(r);
    });
  }
}
