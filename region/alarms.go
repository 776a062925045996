package region

import (
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/pipeline"
)

// Alarms are evaluated on event time as records reach the log service: a
// period is judged once an event after it arrives and every flow log's
// records that can fall in it are delivered (the CloudWatch destination
// tells the log service how far each flow log is, and the log service
// judges no period past that: logsvc.Service.Complete). When traffic stops
// no event comes, and an alarm would keep its state for ever; AWS
// evaluates on its own clock, so periods without data count as missing
// (TreatMissingData). The service does the same as each capture window
// closes on the clock, judging only periods that can receive no more
// records: a record's timestamp is the start of its flow within its
// window, so once the window ending at E is delivered, every record of a
// flow log with interval J stamped before floor(E/J)*J is in (and the log
// service holds back what is not delivered yet all the same).
func (r *Region) evaluateAlarms(d pipeline.Delivery) {
	if !d.Paced {
		return // on packet time, event time alone drives the alarms
	}
	upTo := d.End
	for _, fl := range r.reg.Active() {
		if j := fl.MaxAggregationInterval; fl.DestinationType == flowlog.DestCloudWatch && j > 0 {
			upTo = min(upTo, d.End/j*j)
		}
	}
	changes, err := r.logs.Advance(upTo * 1000)
	if err != nil {
		r.log.Error("evaluating alarms", "err", err)
	}
	for _, ch := range changes {
		r.log.Info("alarm state changed", "alarm", ch.AlarmName, "from", ch.OldState, "to", ch.NewState)
	}
}
