export enum QueueName {
  /** One job per new message, id = message key: written by workers, read by dispatchers. */
  MailEvents = 'mail-events',
  /** One job per (message, device): each is its own retriable unit. */
  Deliveries = 'deliveries',
}

export enum JobName {
  NewMail = 'new-mail',
  Deliver = 'deliver',
  /** A device's burst summary ("N new messages"), delayed to the end of its window. */
  DeliverBurstSummary = 'deliver-burst-summary',
  /** An account's credentials were refused for good: ask the person back (one per credentials version). */
  Reauth = 'reauth',
  /** One device's "Reconnect <email>" notification. */
  DeliverReauth = 'deliver-reauth',
}
