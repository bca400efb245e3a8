/** EC2 instance ids: `i-` and 8 (older) or 17 hex digits. What a key, a tag or DMI names is checked against it. */
export const INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
