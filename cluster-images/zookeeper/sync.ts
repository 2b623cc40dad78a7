import { zookeeperSystem } from './system.js';

/**
 * ZooKeeper with a `sync` before every read (`--system zookeeper-sync`): the server the client
 * is connected to first catches up with the leader, so a read sees every write completed before
 * it began. Writes are the same as `zookeeper`'s.
 */
export default zookeeperSystem({ reads: 'sync' });
