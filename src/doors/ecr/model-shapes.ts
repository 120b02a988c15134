/** One input shape of ECR's service model, as scripts/ecr-model-table.mjs keeps it. */
export interface ModelShape {
  type: 'structure' | 'list' | 'map' | 'string' | 'integer' | 'long' | 'boolean' | 'blob' | 'timestamp' | 'float' | 'double';
  required?: string[];
  /** A structure's members, by name, with their shapes. */
  members?: Record<string, string>;
  /** A list's member shape. */
  member?: string;
  key?: string;
  value?: string;
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
}
