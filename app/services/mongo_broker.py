"""kombu's MongoDB transport with a visibility timeout, so a job survives a worker killed mid-run.

kombu's own MongoDB channel removes a message from the collection as it hands it to a worker and keeps
the unacknowledged copy only in that worker's memory: a SIGTERM puts it back, but a worker killed with
SIGKILL (OOM killer, a lost host) loses it (measured: 1 of 5 queued jobs lost; see docs/jobs.md). This
channel does what kombu's Redis and SQS transports do instead: a fetch *claims* the message (hides it
for `visibility_timeout` seconds), an ack deletes it, and a claimed message nobody acknowledged in time
is handed out again. Everything else (routing, fanout, priorities, connection handling) is kombu's.
"""

from __future__ import annotations

from datetime import timedelta
from queue import Empty
from typing import Any

from kombu.transport import mongodb, virtual
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import dumps, loads


class QoS(virtual.QoS):
    """Delete a message from the collection when it is acknowledged (or rejected without requeue)."""

    def ack(self, delivery_tag: str) -> None:
        self.channel.messages.delete_one({"delivery_tag": delivery_tag})
        super().ack(delivery_tag)

    def reject(self, delivery_tag: str, requeue: bool = False) -> None:
        if not requeue:
            self.channel.messages.delete_one({"delivery_tag": delivery_tag})
        super().reject(delivery_tag, requeue=requeue)


class Channel(mongodb.Channel):
    """Claim messages instead of deleting them on fetch."""

    QoS = QoS
    visibility_timeout = 3600.0
    from_transport_options = (*mongodb.Channel.from_transport_options, "visibility_timeout")  # type: ignore[assignment]

    def _get(self, queue: str, timeout: Any = None) -> Any:
        if queue in self._fanout_queues:
            return super()._get(queue)
        now = self.get_now()
        message = self.messages.find_one_and_update(
            {"queue": queue, "invisible_until": {"$not": {"$gt": now}}},
            {"$set": {"invisible_until": now + timedelta(seconds=float(self.visibility_timeout))}},
            sort=[("priority", 1), ("_id", 1)],
        )
        if message is None:
            raise Empty()
        return loads(bytes_to_str(message["payload"]))

    def _put(self, queue: str, message: dict[str, Any], **kwargs: Any) -> None:
        self.messages.insert_one(
            {
                "payload": dumps(message),
                "queue": queue,
                "priority": self._get_message_priority(message, reverse=True),
                "delivery_tag": message["properties"]["delivery_tag"],
            }
        )

    def _restore(self, message: Any) -> None:
        """Make a message visible again (a warm shutdown or a requeue), or put it back if it is gone."""
        shown = self.messages.update_one({"delivery_tag": message.delivery_tag}, {"$unset": {"invisible_until": ""}})
        if not shown.matched_count:
            super()._restore(message)

    def _ensure_indexes(self, database: Any) -> None:
        super()._ensure_indexes(database)
        database[self.messages_collection].create_index([("delivery_tag", 1)], name="delivery_tag")


class Transport(mongodb.Transport):
    """The MongoDB transport with the channel above."""

    Channel = Channel
