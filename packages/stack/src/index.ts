export { up, down } from './main.ts';
export { stackPaths, type StackPaths } from './paths.ts';
export { KAFKA_VERSION, KAFKA_TOOLS, startKafka, startKafkaCluster, stopKafka, type KafkaCluster, type KafkaNode } from './kafka.ts';
export { ensureNginx, NGINX_HEALTH_PATH, nginxCommand } from './nginx.ts';
