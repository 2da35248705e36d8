export enum QueueName {
  /** One job per new message (id = message key) or refused credentials: written by workers, read by dispatchers. */
  MailEvents = 'mail-events',
  /** Deliveries: one job per (message, batch of devices), each device its own idempotent unit inside it. */
  Deliveries = 'deliveries',
}

export enum JobName {
  NewMail = 'new-mail',
  /** One message to one device: a replayed dead letter (and jobs queued before batches existed). */
  Deliver = 'deliver',
  /** One message to a batch of one user's devices: the fan-out's unit. */
  DeliverBatch = 'deliver-batch',
  /** A device's burst summary ("N new messages"), delayed to the end of its window. */
  DeliverBurstSummary = 'deliver-burst-summary',
  /** An account's credentials were refused for good: ask the person back (one per credentials version). */
  Reauth = 'reauth',
  /** One device's "Reconnect <email>" notification. */
  DeliverReauth = 'deliver-reauth',
}
