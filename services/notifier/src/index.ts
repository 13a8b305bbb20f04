// The notifier's public entry: the re-drive of its dead-lettered deliveries (`trapline alerts redrive`).
export { redriveAlertDeliveries } from './adapters/redrive.ts';
