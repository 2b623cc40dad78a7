import { etcdSystem } from './system.js';

/**
 * etcd with serializable reads (`--system etcd-serializable`): each range is served by the
 * member asked, from its own state, without going through the leader. Expected to show stale
 * reads when a member is cut off from the majority; the writes are the same as `etcd`'s.
 */
export default etcdSystem({ reads: 'serializable' });
