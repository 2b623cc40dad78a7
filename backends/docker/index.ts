export {
  CLIENT_PORT,
  createDockerBackend,
  DOCKER_CAPABILITIES,
  type DockerBackendOptions,
  DockerCluster,
  mapLaunch,
  PEER_PORT,
} from './docker-backend.js';
export { connectDocker, DockerUnavailableError } from './engine.js';
export { ensureBaseImage, ensureSystemImage, type ImageRecipe, loadImageRecipe } from './images.js';
export { cleanDeadRuns, describeObjectsOfRun, LABEL, removeRun } from './labels.js';
