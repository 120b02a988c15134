/** Who a request acts as, once authenticated. */
export interface Principal {
  /** e.g. arn:aws:iam::123456789012:user/alice, or '*' for anonymous callers. */
  arn: string;
  /** The principal's account id (12 digits); for anonymous callers, the addressed registry's. */
  account: string;
  userName?: string;
  accessKeyId?: string;
  anonymous: boolean;
}
