package roomserver

// Notifiers fans the roomserver's outputs out to several notifiers, in order.
type Notifiers []Notifier

// OnRoomEvents implements Notifier.
func (ns Notifiers) OnRoomEvents(outputs []Output, streamPos int64) {
	for _, n := range ns {
		if n != nil {
			n.OnRoomEvents(outputs, streamPos)
		}
	}
}
